"""Lambda event sources: one handler class per kind of HTTP event, chosen by ``infer``."""
