"""The rate model: spiking samplers of the algebraic UHN (continuous, hybrid, spiking)."""
