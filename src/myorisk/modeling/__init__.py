"""The statistical engine: binary-outcome prediction models, identical to R rms / pROC."""
