"""One cold start: ``python3.13 -I -S -B cold_child.py <bundle> <module>`` (event JSON on stdin).

Only the bundle is put on ``sys.path`` (besides the standard library); the handler module is
imported as Lambda's runtime would, serves the one event, and the response goes to stdout as
soon as it exists. The parent times from spawning this process to reading that line.
"""

import json
import sys
import time


class Context:
    aws_request_id = "cold-start"
    function_name = "orders-api-bench"
    memory_limit_in_mb = "512"

    def get_remaining_time_in_millis(self) -> int:
        return 10_000


def main() -> None:
    bundle, module_name = sys.argv[1], sys.argv[2]
    event = json.loads(sys.stdin.read())
    sys.path.insert(0, bundle)
    started = time.perf_counter()
    module = __import__(module_name, fromlist=["handler"])
    imported = time.perf_counter()
    response = module.handler(event, Context())
    served = time.perf_counter()
    line = {
        "status": response["statusCode"],
        "body": response.get("body"),
        "import_ms": (imported - started) * 1000,
        "first_call_ms": (served - imported) * 1000,
        "cpu_ms": time.process_time() * 1000,  # the whole process's, up to the response
    }
    sys.stdout.write(json.dumps(line) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
