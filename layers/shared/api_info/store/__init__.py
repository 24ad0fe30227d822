"""The store: the only code that touches DynamoDB and Secrets Manager, one module per concern.

- `dynamo`: the table's keys, (de)serialising, batched and transactional calls with backoff;
- `tenants`: tenant items, rate limits, check reservations and results, reads for the checks;
- `records`: credential records under the change lock (lock, commit, failure, delete, load);
- `history`: the audit trail and its cursor;
- `secrets`: the secrets in Secrets Manager (name, stage, promote, read, delete) and the fingerprint key.

Each module talks to one AWS service, as the functions' IAM policies split; none reads or writes both.
Where a use case needs both (a change stages a secret, then commits its record), the service composes
them.
"""
