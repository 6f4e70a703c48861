// Starts GraphiQL (loaded before this file from Kizuna's own copy of its browser build).
// It sends the signed-in browser session; the header is the session's proof that the
// request comes from Kizuna's own page (auth/session.py).
"use strict";

const fetcher = GraphiQL.createFetcher({ url: "/graphql", headers: { "Kizuna-CSRF": "1" } });
ReactDOM.createRoot(document.getElementById("graphiql")).render(React.createElement(GraphiQL, { fetcher }));
