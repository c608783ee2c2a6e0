"""The app on AWS Lambda: ``handler`` (the entry point), the app's wiring (``factory``), the
generic Mangum ``adapter``, event checks (``events``) and the once-per-environment ``lifespan``.
"""
