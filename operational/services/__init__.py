"""Commands the UI and the CLI call: validate, write in one transaction, audit, raise DomainError."""
