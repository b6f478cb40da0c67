"""mllint's reproducible benchmark against its peers (`make bench`)."""
