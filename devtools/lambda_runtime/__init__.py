"""A local Lambda runtime: the built asset run by AWS's runtime interface client, as Lambda runs it.

``service.LocalLambda`` is the Lambda service for one function (configured from the synthesized
template, ``function``): the Runtime API and container-credentials endpoint (``runtime_api``),
execution environments with SnapStart's lifecycle (``environment``, ``spec``), a DynamoDB front
that checks keys as DynamoDB does (``dynamodb_front``, ``credentials``, ``sigv4``) and Lambda's
platform reports (``reports``). ``make gateway`` puts the API Gateway emulator in front of it.
See docs/local-lambda.md.
"""
