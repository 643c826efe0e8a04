"""The population: customers, merchants, devices, cities, categories and payment instruments."""
