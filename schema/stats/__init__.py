"""The prefecture view: aggregates across every municipality, published only once disclosure control has passed."""
