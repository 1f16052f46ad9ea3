"""Settings: config.yaml and the environment, validated; the cross-checks behind `hotline check`."""
