package io.github.openailb.core;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Tests for {@link Outcome}: the status table of SPEC §3.
 */
class OutcomeTests {

	@ParameterizedTest
	@ValueSource(ints = { 200, 201, 202, 204, 206, 299 })
	void successAnswersReachTheCaller(int status) {
		assertThat(Outcome.ofStatus(status)).isEqualTo(Outcome.SUCCESS);
		assertThat(Outcome.SUCCESS.failsOver()).isFalse();
	}

	@ParameterizedTest
	@ValueSource(ints = { 429 })
	void throttledAnswersFailOver(int status) {
		assertThat(Outcome.ofStatus(status)).isEqualTo(Outcome.THROTTLED);
		assertThat(Outcome.THROTTLED.failsOver()).isTrue();
	}

	@ParameterizedTest
	@ValueSource(ints = { 408, 500, 501, 502, 503, 504, 520, 599, 600, 999 })
	void serverFailuresAndRequestTimeoutFailOver(int status) {
		assertThat(Outcome.ofStatus(status)).isEqualTo(Outcome.FAILURE);
		assertThat(Outcome.FAILURE.failsOver()).isTrue();
	}

	@ParameterizedTest
	@ValueSource(ints = { 0, 99, 100, 101, 102, 103, 199, 300, 301, 302, 304, 307, 308, 399 })
	void redirectsAndStatusesThatAreNoFinalAnswerAreFailuresOfTheBackend(int status) {
		assertThat(Outcome.ofStatus(status)).isEqualTo(Outcome.FAILURE);
		assertThat(Outcome.FAILURE.failsOver()).isTrue();
	}

	@ParameterizedTest
	@ValueSource(ints = { 401, 403, 404 })
	void authAndNotFoundMeanThisBackendIsMisconfigured(int status) {
		assertThat(Outcome.ofStatus(status)).isEqualTo(Outcome.MISCONFIGURED);
		assertThat(Outcome.MISCONFIGURED.failsOver()).isTrue();
	}

	@ParameterizedTest
	@ValueSource(ints = { 400, 402, 405, 406, 409, 410, 411, 412, 413, 415, 422, 428, 431, 451, 499 })
	void otherClientErrorsAreReturnedUnchanged(int status) {
		assertThat(Outcome.ofStatus(status)).isEqualTo(Outcome.CLIENT_ERROR);
		assertThat(Outcome.CLIENT_ERROR.failsOver()).isFalse();
	}

}
