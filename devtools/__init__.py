"""Local development tools; never part of the Lambda bundle."""
