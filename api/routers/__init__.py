"""One module per endpoint family; each router parses, calls one ``geo`` service and shapes the answer."""
