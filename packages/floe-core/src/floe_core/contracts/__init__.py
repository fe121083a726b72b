"""ODCS v3 data contracts: the model, the loader, SLAs and the tables a contract describes."""
