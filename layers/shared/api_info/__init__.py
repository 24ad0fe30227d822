"""Domain of the API Information service: shared by every Lambda function through the layer."""
