# Herald: `make run` serves the console, `make test` runs every check. Both install what is missing.
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.ONESHELL:

# One build cache per machine, shared by every clone (and by CI's fresh clones).
export CARGO_TARGET_DIR ?= $(HOME)/.cache/herald/target
# cargo-leptos dev builds add this flag themselves; plain cargo commands pass the same, so the two
# share one build instead of rebuilding each other's (RUSTFLAGS stays unset for cargo-leptos, which
# would otherwise add it a second time and so differ again).
# Leptos' build scripts also track the LEPTOS_* settings cargo-leptos passes; give plain cargo the same.
CARGO_FLAGS := RUSTFLAGS="--cfg erase_components" LEPTOS_OUTPUT_NAME=herald LEPTOS_SITE_ROOT=target/site \
	LEPTOS_SITE_PKG_DIR=pkg LEPTOS_SITE_ADDR=127.0.0.1:3000 LEPTOS_RELOAD_PORT=3001 LEPTOS_LIB_DIR=frontend \
	LEPTOS_BIN_DIR=server LEPTOS_JS_MINIFY=false LEPTOS_HASH_FILES=false
unexport RUSTFLAGS
# Queries are checked against the schema as they compile, from the query data committed in .sqlx
# (so a build needs no database, and a test checks the data against the migrations' schema);
# `make sqlx-prepare` writes it afresh after a query or a migration changes.
export SQLX_OFFLINE := true
export HERALD_ADDR ?= 127.0.0.1:3000
export LEPTOS_SITE_ROOT := target/site
TOOLS_DIR ?= $(HOME)/.cache/herald/tools

# Marks target/site as holding a release build of the current sources; a dev build removes it.
RELEASE_STAMP := target/site/.release-build
RELEASE_BIN := $(CARGO_TARGET_DIR)/release/herald
ifeq ($(wildcard $(RELEASE_BIN)),)
$(shell rm -f $(RELEASE_STAMP))
endif
SOURCES := Cargo.toml Cargo.lock $(shell find app frontend server style public migrations -type f 2>/dev/null)

.PHONY: run test check fmt-check clippy unit-and-integration e2e sqlx-prepare bench bench-import bench-dispatch bench-analytics bench-verify chaos

run: $(RELEASE_STAMP)
	@DATABASE_URL=$$(scripts/database.sh herald)
	export DATABASE_URL
	echo "herald: serving the console on http://$(HERALD_ADDR)"
	exec "$(RELEASE_BIN)" serve

$(RELEASE_STAMP): $(SOURCES)
	@scripts/tools.sh release
	PATH="$(TOOLS_DIR)/node_modules/.bin:$$PATH" cargo leptos build --release
	touch $@

# Test output is kept here so the closing line can count what ran.
TEST_LOGS := target/test-logs

test: fmt-check clippy unit-and-integration e2e
	@cargo_passed=$$(grep -ho 'test result: ok\. [0-9]* passed' $(TEST_LOGS)/cargo.log | awk '{s += $$4} END {print s + 0}')
	e2e_passed=$$(grep -ho '^ *[0-9]* passed' $(TEST_LOGS)/e2e.log | awk '{s += $$1} END {print s + 0}')
	echo "herald: all checks passed (cargo test $$cargo_passed, end-to-end $$e2e_passed)"
	echo "tests: $$((cargo_passed + e2e_passed)) passed, 0 failed"

fmt-check:
	cargo fmt --all -- --check

# What a change needs before the tests: formatting and both builds' lints (server and wasm).
check: fmt-check clippy

clippy:
	@scripts/tools.sh build
	$(CARGO_FLAGS) cargo clippy --locked -p herald -p app --all-targets -- -D warnings
	$(CARGO_FLAGS) cargo clippy --locked -p frontend -p app --features app/hydrate --target wasm32-unknown-unknown -- -D warnings

unit-and-integration:
	@scripts/tools.sh test
	DATABASE_URL=$$(scripts/database.sh herald_test)
	REDIS_URL=$$(scripts/redis.sh)
	export DATABASE_URL REDIS_URL HERALD_SDK_PYTHON=$(TOOLS_DIR)/sdk-python/bin/python
	mkdir -p $(TEST_LOGS)
	$(CARGO_FLAGS) cargo test --locked -p herald -p app 2>&1 | tee $(TEST_LOGS)/cargo.log

e2e:
	@scripts/tools.sh test
	rm -f $(RELEASE_STAMP)
	cargo leptos build
	mkdir -p $(TEST_LOGS)
	DATABASE_URL=$$(scripts/database.sh postgres) scripts/e2e.sh 2>&1 | tee $(TEST_LOGS)/e2e.log

# Describes every checked query against a database migrated from migrations/ alone, into .sqlx.
# The crates are touched so that their queries expand again (cargo does not see the database).
sqlx-prepare:
	@scripts/tools.sh build
	DATABASE_URL=$$(scripts/database.sh herald_sqlx)
	export PGOPTIONS='-c client_min_messages=warning'
	psql -q "$$DATABASE_URL" -c 'DROP SCHEMA public CASCADE' -c 'CREATE SCHEMA public'
	for migration in migrations/*.sql; do psql -q -v ON_ERROR_STOP=1 "$$DATABASE_URL" -f "$$migration"; done
	rm -rf .sqlx && mkdir .sqlx
	touch app/src/lib.rs server/src/lib.rs
	$(CARGO_FLAGS) SQLX_OFFLINE=false SQLX_OFFLINE_DIR="$(CURDIR)/.sqlx" DATABASE_URL="$$DATABASE_URL" \
		cargo check --locked -p herald -p app --all-targets
	echo "herald: $$(ls .sqlx | wc -l) queries described in .sqlx"

# Speed goals are measured here, beside a raw baseline taken in the same run; never in tests.
bench: bench-import bench-dispatch bench-analytics bench-verify

bench-import:
	@DATABASE_URL=$$(scripts/database.sh herald_bench)
	export DATABASE_URL
	$(CARGO_FLAGS) cargo bench --locked -p herald --bench import

bench-dispatch:
	@DATABASE_URL=$$(scripts/database.sh herald_bench)
	REDIS_URL=$$(scripts/redis.sh)
	export DATABASE_URL REDIS_URL
	$(CARGO_FLAGS) cargo bench --locked -p herald --bench dispatch

bench-verify:
	@scripts/tools.sh bench
	DATABASE_URL=$$(scripts/database.sh herald_bench)
	REDIS_URL=$$(scripts/redis.sh)
	export DATABASE_URL REDIS_URL
	$(CARGO_FLAGS) cargo bench --locked -p herald --bench verify

bench-analytics:
	@DATABASE_URL=$$(scripts/database.sh herald_bench)
	export DATABASE_URL
	$(CARGO_FLAGS) cargo bench --locked -p herald --bench analytics

# Kills the server five times during a 100,000-message task (a 3,000-message version runs in
# make test); prints a JSON summary per scenario.
chaos:
	@DATABASE_URL=$$(scripts/database.sh herald_test)
	REDIS_URL=$$(scripts/redis.sh)
	export DATABASE_URL REDIS_URL
	mkdir -p $(TEST_LOGS)
	HERALD_CHAOS_MESSAGES=100000 HERALD_CHAOS_KILLS=5 $(CARGO_FLAGS) cargo test --locked -p herald --test it chaos:: -- --nocapture --test-threads 1 2>&1 | tee $(TEST_LOGS)/chaos.log
	grep -o '^{"chaos":"[^}]*}' $(TEST_LOGS)/chaos.log | sort -r
