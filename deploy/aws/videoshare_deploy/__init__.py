"""VideoShare's AWS deployment (CDK): settings.py (the context keys), stack.py (the stack),
nag.py (the acknowledged cdk-nag findings), build.py (what app.py builds)."""
