"""Open-data metadata for harvesters: the DCAT-AP 3 catalogue (``dcat``) and ISO 19139 records
per dataset (``iso19139``), served by ``api``."""
