# The two commands (see README): `make demo` and `make test`.
BUILD_DIR ?= build
JOBS ?= $(shell nproc)
RLPIPE := $(BUILD_DIR)/apps/rlpipe

.PHONY: all deps test-deps build demo test bench bench-env bench-algos bench-mrp bench-transfer \
	bench-render clean

all: build

deps:
	scripts/install-deps.sh

test-deps:
	scripts/install-deps.sh --test

$(BUILD_DIR)/build.ninja:
	cmake -S . -B $(BUILD_DIR) -G Ninja

# Only the rlpipe binary (what `make demo` needs); `make test` builds everything.
build: deps $(BUILD_DIR)/build.ninja
	cmake --build $(BUILD_DIR) --target rlpipe -j $(JOBS)

# A short robot curriculum (height_maximize -> crush_resistance with transfer, a few minutes on 2
# cores) into demo_output/ (fresh each time); each session ends with a headless video of its best
# model. The pendulum quickstart: `rlpipe run --config configs/examples/quickstart.yaml`.
demo: build
	rm -rf demo_output
	$(RLPIPE) run --config configs/examples/demo_curriculum.yaml --output-dir demo_output
	@echo
	@for f in demo_output/*report*; do echo "demo: report     $$f"; done
	@for s in raise hold_the_press; do \
	  echo "demo: video      demo_output/$$s/videos/best_model.mp4 (poster best_model.png)"; done
	@echo "demo: evaluate   $(RLPIPE) evaluate --output-dir demo_output --session hold_the_press"

test: test-deps $(BUILD_DIR)/build.ninja
	cmake --build $(BUILD_DIR) -j $(JOBS)
	cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS) --timeout 900

# Learning and throughput programs (not part of the test suite).
bench: build
	cmake --build $(BUILD_DIR) --target benches -j $(JOBS)
	$(BUILD_DIR)/bench/ppo_pendulum_learning

# Env throughput: wrapper overhead, threads, every task, the integrator's cost (a minute).
bench-env: build
	cmake --build $(BUILD_DIR) --target rlpipe_env_bench -j $(JOBS)
	$(BUILD_DIR)/bench/envs/rlpipe_env_bench

# SAC, TD3 and A2C on pendulum (3 seeds each), PPO's wall-time split on height_maximize.
bench-algos: build
	cmake --build $(BUILD_DIR) --target pendulum_learning ppo_height_split -j $(JOBS)
	$(BUILD_DIR)/bench/pendulum_learning --algorithm sac
	$(BUILD_DIR)/bench/pendulum_learning --algorithm td3
	$(BUILD_DIR)/bench/pendulum_learning --algorithm a2c
	$(BUILD_DIR)/bench/ppo_height_split

# PPO with MultiRobotPolicy on height_maximize against a random policy (long: hours on 2 cores).
bench-mrp: build
	cmake --build $(BUILD_DIR) --target height_mrp_learning -j $(JOBS)
	$(BUILD_DIR)/bench/height_mrp_learning $(MRP_BENCH_FLAGS)

# Transfer learning: height N=2 -> crush N=2 and -> height N=3, scratch vs transfer (long).
bench-transfer: build
	cmake --build $(BUILD_DIR) --target transfer_bench -j $(JOBS)
	$(BUILD_DIR)/bench/transfer_bench $(TRANSFER_BENCH_FLAGS)

# Rendering ms/frame at 640x480 and 1280x720, and evaluate's episode rate (a minute).
bench-render: build
	cmake --build $(BUILD_DIR) --target render_bench -j $(JOBS)
	$(BUILD_DIR)/bench/render_bench

clean:
	rm -rf $(BUILD_DIR) demo_output
