from floe_core.contracts.loader import parse_contract

CONTRACT = """\
apiVersion: v3.1.0
kind: DataContract
id: orders
version: 1.0.0
contractCreatedTs: 2025-03-01T10:00:00Z
slaProperties:
  - property: endOfSupport
    value: 2030-01-31
"""


def test_unquoted_dates_load_as_the_text_written():
    contract = parse_contract(CONTRACT)
    assert contract.contractCreatedTs == "2025-03-01T10:00:00Z"
    assert contract.slaProperties is not None
    assert contract.slaProperties[0].value == "2030-01-31"
