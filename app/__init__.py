"""CoffeeMesh Orders API: one async FastAPI app for uvicorn and AWS Lambda."""
