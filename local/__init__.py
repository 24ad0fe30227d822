"""The local stack: moto, an Atlassian simulator, a development token issuer and a local API Gateway."""
