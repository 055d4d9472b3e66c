# kforge lab: end-to-end test of the systemd-nspawn lab (needs root; see docs/lab.md).
# Included from the Makefile; 'make lab-test' builds the binary, then runs the e2e-tagged test.
# The guard lets 'make -f Makefile -f lab/lab.mk' work whether or not the Makefile includes it.
ifndef KFORGE_LAB_MK
KFORGE_LAB_MK := 1

LAB_STATE_DIR ?= /var/lib/kforge-lab
LAB_TEST_TIMEOUT ?= 40m

.PHONY: lab-test e2e

# e2e is every end-to-end test; today that is the lab's own.
e2e: lab-test

lab-test:
	$(MAKE) build
	KFORGE_BIN=$(abspath $(BIN)) KFORGE_LAB_STATE_DIR=$(LAB_STATE_DIR) \
		$(GO) test -tags e2e -count=1 -v -timeout $(LAB_TEST_TIMEOUT) ./lab/...
endif
