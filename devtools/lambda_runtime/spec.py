"""What a runtime process of the function is started with: ``Spec`` and its environment.

``variables`` is exactly what Lambda sets (configuration-envvars; SnapStart's differences from
snapstart-activate and snapstart-monitoring), the function's own variables from the template,
and ``local_variables`` (the local endpoints).
"""

from __future__ import annotations

import os
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from devtools.lambda_runtime.credentials import IssuedKey
from devtools.lambda_runtime.function import FunctionConfig

ACCOUNT_ID = "123456789012"
ALIAS = "live"  # infra/compute.py: API Gateway invokes the alias
VERSION = "1"  # the published version behind it
EXTENSIONS_DIR = "/opt"


@dataclass(frozen=True)
class Spec:
    """How to start this function's runtime processes."""

    function: FunctionConfig
    init_type: str  # "snap-start" or "on-demand"
    python: Path  # the runtime environment's interpreter (awslambdaric installed)
    runtime_dir: Path  # its site-packages: LAMBDA_RUNTIME_DIR
    task_root: Path  # read-only copy of the asset: LAMBDA_TASK_ROOT and working directory
    region: str
    runtime_api: str  # host:port
    local_variables: dict[str, str]  # what points the function at local services
    environment_key_lifetime: float
    container_key_lifetime: float

    @property
    def arn(self) -> str:
        name = self.function.name
        return f"arn:aws:lambda:{self.region}:{ACCOUNT_ID}:function:{name}:{ALIAS}"


def variables(spec: Spec, *, token: str, key: IssuedKey | None) -> dict[str, str]:
    """The process's whole environment. ``token`` authorizes the container-credentials
    endpoint (SnapStart); ``key`` is the execution role's key (on-demand only)."""
    function = spec.function
    python_bin = str(Path(os.path.realpath(spec.python)).parent)
    python_lib = str(Path(python_bin).parent / "lib")
    result = {
        **function.variables,
        **spec.local_variables,
        "LANG": "en_US.UTF-8",
        "PATH": f"{python_bin}:/usr/local/bin:/usr/bin:/bin:{EXTENSIONS_DIR}/bin",
        "LD_LIBRARY_PATH": f"{python_lib}:/lib64:/usr/lib64:{spec.runtime_dir}:"
        f"{spec.task_root}:{spec.task_root}/lib:{EXTENSIONS_DIR}/lib",
        "AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR",
        "AWS_XRAY_DAEMON_ADDRESS": "169.254.79.129:2000",
        "_AWS_XRAY_DAEMON_ADDRESS": "169.254.79.129",
        "_AWS_XRAY_DAEMON_PORT": "2000",
        "AWS_LAMBDA_LOG_FORMAT": function.log_format,
        "_HANDLER": function.handler,
        "AWS_EXECUTION_ENV": f"AWS_Lambda_{function.runtime}",
        "LAMBDA_TASK_ROOT": str(spec.task_root),
        "LAMBDA_RUNTIME_DIR": str(spec.runtime_dir),
        "AWS_LAMBDA_INITIALIZATION_TYPE": spec.init_type,
        "AWS_REGION": spec.region,
        "AWS_DEFAULT_REGION": spec.region,
        "AWS_LAMBDA_FUNCTION_NAME": function.name,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(function.memory_mb),
        "AWS_LAMBDA_FUNCTION_VERSION": VERSION,
        "AWS_LAMBDA_RUNTIME_API": spec.runtime_api,
        "TZ": ":UTC",
    }
    if function.application_log_level:
        result["AWS_LAMBDA_LOG_LEVEL"] = function.application_log_level
    if spec.init_type == "snap-start":
        # No keys in the environment: they would be stale in a restored snapshot.
        result["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = (
            f"http://{spec.runtime_api}/2021-04-23/credentials"
        )
        result["AWS_CONTAINER_AUTHORIZATION_TOKEN"] = token
        return result
    # Not available under SnapStart (snapstart-monitoring).
    result["AWS_LAMBDA_LOG_GROUP_NAME"] = f"/aws/lambda/{function.name}"
    stream = time.strftime("%Y/%m/%d/", time.gmtime()) + f"[{VERSION}]{uuid.uuid4().hex}"
    result["AWS_LAMBDA_LOG_STREAM_NAME"] = stream
    if key is not None:
        result["AWS_ACCESS_KEY_ID"] = key.access_key_id
        result["AWS_SECRET_ACCESS_KEY"] = key.secret_access_key
        result["AWS_SESSION_TOKEN"] = key.session_token
    return result
