"""A capacity and cost model of the stack: ``python -m devtools.capacity`` (``make capacity``).

From per-route figures (a ``make load`` report, else documented defaults), the stack's knobs
(the synthesized template) and a traffic scenario it predicts Lambda concurrency and throttles,
API Gateway's 429s, DynamoDB's units and partition heat, and the monthly bill by line item.
Prices and quotas are data (``prices.toml``), each with its source and the date it was read.
"""
