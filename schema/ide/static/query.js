// Kizuna's own GraphQL page, used until GraphiQL is installed: the query and its
// variables go to /graphql as the signed-in browser session, and the answer is shown
// as it came. No framework and nothing inline, so the page's strict policy holds; the
// page gives this script its messages, in the page's language, as data- attributes.
"use strict";

const form = document.getElementById("query-form");
const query = document.getElementById("query");
const variables = document.getElementById("variables");
const run = document.getElementById("run");
const status = document.getElementById("status");
const answer = document.getElementById("answer");

function parseVariables() {
  const text = variables.value.trim();
  return text === "" ? null : JSON.parse(text);
}

async function execute() {
  let parsed;
  try {
    parsed = parseVariables();
  } catch (error) {
    status.textContent = form.dataset.notJson;
    answer.textContent = String(error);
    return;
  }
  run.disabled = true;
  status.textContent = "…";
  try {
    const response = await fetch("/graphql", {
      method: "POST",
      credentials: "same-origin",
      headers: {
        "content-type": "application/json",
        accept: "application/graphql-response+json, application/json",
        // The session's proof that the request comes from Kizuna's own page (auth/session.py).
        "kizuna-csrf": "1",
      },
      body: JSON.stringify({ query: query.value, variables: parsed }),
    });
    const text = await response.text();
    status.textContent = `HTTP ${response.status}`;
    try {
      answer.textContent = JSON.stringify(JSON.parse(text), null, 2);
    } catch {
      answer.textContent = text;
    }
  } catch (error) {
    status.textContent = form.dataset.failed;
    answer.textContent = String(error);
  } finally {
    run.disabled = false;
  }
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  execute();
});

form.addEventListener("keydown", (event) => {
  if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
    event.preventDefault();
    execute();
  }
});
