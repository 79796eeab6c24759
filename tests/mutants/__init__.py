"""The mutant catalogue (`catalogue.py`) and the pytest plugin its runner loads (`plugin.py`)."""
