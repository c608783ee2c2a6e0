"""HTTP routes: thin adapters between the contract (schemas) and the service."""
