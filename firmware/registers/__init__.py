"""The register engine: tariff, prepayment, logs and load-control timing."""
