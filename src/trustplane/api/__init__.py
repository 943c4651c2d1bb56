"""HTTP API: FastAPI app factory, problem details, authentication and routes."""
