"""Optional C accelerator for floe-core; floe-core works the same without it, only slower.

``_avro.read_blocks`` decodes the blocks of an Avro object container by a plan that
floe-core builds from the file's writer schema (``floe_core.iceberg._avro_plan``).
"""
