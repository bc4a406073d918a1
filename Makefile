# The few verbs a newcomer needs. Everything runs from the project's own virtualenv.
VENV ?= .venv
PYTHON ?= python3
BIN = $(VENV)/bin
export PATH := $(abspath $(BIN)):$(PATH)

.PHONY: install run web worker test lint format bench clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	# The MySQL driver builds from source: install it where the client headers are present.
	if pkg-config --exists mysqlclient 2>/dev/null; then $(BIN)/pip install --quiet -e '.[dev,mysql]'; fi
	touch $@

install: $(BIN)/.installed

## run: set up and serve the whole product on http://localhost:8080 (web + worker)
run: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py collectstatic --noinput --verbosity 0
	$(BIN)/honcho start --procfile Procfile

web: install
	$(BIN)/gunicorn config.asgi:application

worker: install
	$(BIN)/celery -A config worker --loglevel INFO

## test: every test, on SQLite; on this machine's servers:
##       VIDEOSHARE_TEST_DB=postgresql make test, VIDEOSHARE_TEST_DB=mariadb make test
##       (PYTEST_ARGS="-k ..." passes options to pytest)
test: install
	$(BIN)/pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

## bench: every benchmark in bench/ (BENCH_ARGS=--quick: tiny inputs, only checks they run)
bench: install
	$(BIN)/python bench/run.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) var

# ---- The AWS deployment (deploy/aws, docs/DEPLOY.md). Its packages are an extra of their own.
## deploy-check: synthesize every stack offline into deploy/aws/cdk.out and test it: template
##               assertions, cdk-nag's AWS Solutions rules, cfn-lint (no AWS account needed)
.PHONY: deploy-check
$(BIN)/.installed-deploy: pyproject.toml $(BIN)/.installed
	$(BIN)/pip install --quiet -e '.[dev,deploy]'
	touch $@

deploy-check: $(BIN)/.installed-deploy
	$(BIN)/pytest deploy/aws/tests $(PYTEST_ARGS)
