"""Lambda code of the built-in CodeDeploy smoke-test hook (shipped inside the serverless_patterns package)."""
