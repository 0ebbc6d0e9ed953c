"""The neural circuit (``mode="circuit"``): plan, build, read out, and storage by plasticity."""
