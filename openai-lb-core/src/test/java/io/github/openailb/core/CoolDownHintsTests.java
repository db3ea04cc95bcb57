package io.github.openailb.core;

import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.HashMap;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Tests for {@link CoolDownHints}: every hint format, the order of sources, and bad values.
 */
class CoolDownHintsTests {

	private static final long NOW = Instant.parse("2026-01-01T12:00:00Z").toEpochMilli();

	private static final String AZURE_BODY = "{\"error\":{\"code\":\"429\",\"message\":\"Requests to the "
			+ "ChatCompletions_Create Operation under Azure OpenAI API version 2024-10-21 have exceeded token rate "
			+ "limit of your current OpenAI S0 pricing tier. Please retry after 6 seconds.\"}}";

	@Test
	void retryAfterMs() {
		assertThat(throttled(Map.of("retry-after-ms", "1500"))).isEqualTo(Duration.ofMillis(1500));
		assertThat(throttled(Map.of("retry-after-ms", " 20 "))).isEqualTo(Duration.ofMillis(20));
		assertThat(throttled(Map.of("retry-after-ms", "12.6"))).isEqualTo(Duration.ofMillis(13));
	}

	@Test
	void retryAfterSeconds() {
		assertThat(throttled(Map.of("retry-after", "7"))).isEqualTo(Duration.ofSeconds(7));
		assertThat(throttled(Map.of("retry-after", " 120 "))).isEqualTo(Duration.ofSeconds(120));
	}

	@Test
	void retryAfterDecimalSeconds() {
		assertThat(throttled(Map.of("retry-after", "1.5"))).isEqualTo(Duration.ofMillis(1500));
		assertThat(throttled(Map.of("retry-after", "0.25"))).isEqualTo(Duration.ofMillis(250));
	}

	@Test
	void retryAfterHttpDateInTheFuture() {
		assertThat(throttled(Map.of("retry-after", httpDate(NOW + 30_000)))).isEqualTo(Duration.ofSeconds(30));
		assertThat(throttled(Map.of("retry-after", "Thu, 01 Jan 2026 12:01:00 GMT"))).isEqualTo(Duration.ofMinutes(1));
	}

	@Test
	void retryAfterHttpDateInThePastIsNotUsable() {
		assertThat(throttled(Map.of("retry-after", httpDate(NOW - 30_000)))).isNull();
		assertThat(throttled(Map.of("retry-after", httpDate(NOW)))).isNull();
		assertThat(throttled(Map.of("retry-after", httpDate(NOW - 30_000), "x-ratelimit-reset-requests", "2s")))
			.isEqualTo(Duration.ofSeconds(2));
	}

	@ParameterizedTest
	@CsvSource({ "1s, 1000", "6m0s, 360000", "20ms, 20", "1h2m3s, 3723000", "0.5s, 500", "30, 30000", "2.5, 2500",
			"1m30s, 90000", "1m, 60000", "2h, 7200000", "1s500ms, 1500", "6M0S, 360000", "' 3s ', 3000" })
	void rateLimitResetForms(String value, long millis) {
		assertThat(throttled(Map.of("x-ratelimit-reset-requests", value))).isEqualTo(Duration.ofMillis(millis));
		assertThat(throttled(Map.of("x-ratelimit-reset-tokens", value))).isEqualTo(Duration.ofMillis(millis));
	}

	@Test
	void bodyPhrase() {
		assertThat(CoolDownHints.forThrottled(none(), AZURE_BODY, NOW)).isEqualTo(Duration.ofSeconds(6));
		assertThat(CoolDownHints.forThrottled(none(), "Rate limit is exceeded. Try again later. Retry after 1 second.",
				NOW))
			.isEqualTo(Duration.ofSeconds(1));
		assertThat(CoolDownHints.forThrottled(none(), "RETRY AFTER 2.5 SECONDS", NOW)).isEqualTo(Duration.ofMillis(2500));
	}

	@Test
	void nothingUsable() {
		assertThat(CoolDownHints.forThrottled(none(), null, NOW)).isNull();
		assertThat(CoolDownHints.forThrottled(none(), "", NOW)).isNull();
		assertThat(CoolDownHints.forThrottled(none(), "{\"error\":{\"message\":\"Too many requests\"}}", NOW)).isNull();
		assertThat(CoolDownHints.forThrottled(none(), "Please retry after some seconds.", NOW)).isNull();
		assertThat(CoolDownHints.forThrottled(none(), "Please retry after 0 seconds.", NOW)).isNull();
	}

	@Test
	void orderIsMillisThenRetryAfterThenRequestsThenTokensThenBody() {
		Map<String, String> headers = new HashMap<>(Map.of("retry-after-ms", "100", "retry-after", "2",
				"x-ratelimit-reset-requests", "3s", "x-ratelimit-reset-tokens", "4s"));
		assertThat(CoolDownHints.forThrottled(headers::get, AZURE_BODY, NOW)).isEqualTo(Duration.ofMillis(100));
		headers.remove("retry-after-ms");
		assertThat(CoolDownHints.forThrottled(headers::get, AZURE_BODY, NOW)).isEqualTo(Duration.ofSeconds(2));
		headers.remove("retry-after");
		assertThat(CoolDownHints.forThrottled(headers::get, AZURE_BODY, NOW)).isEqualTo(Duration.ofSeconds(3));
		headers.remove("x-ratelimit-reset-requests");
		assertThat(CoolDownHints.forThrottled(headers::get, AZURE_BODY, NOW)).isEqualTo(Duration.ofSeconds(4));
		headers.remove("x-ratelimit-reset-tokens");
		assertThat(CoolDownHints.forThrottled(headers::get, AZURE_BODY, NOW)).isEqualTo(Duration.ofSeconds(6));
	}

	@ParameterizedTest
	@ValueSource(strings = { "-1", "-0.5", "0", "0.0", "abc", "", "   ", "NaN", "Infinity", "1e3", "0x10", "1,5", "5 s",
			"99999999999999999999", "9999999999999.5", "1.1234567891234", "--", "s", "ms", "1d", "1sx", "-1s", "0s",
			"0ms", "0h0m0s" })
	void unusableValuesFallThroughToTheNextSource(String bad) {
		Map<String, String> headers = Map.of("retry-after-ms", bad, "retry-after", bad, "x-ratelimit-reset-requests", bad,
				"x-ratelimit-reset-tokens", bad);
		assertThat(CoolDownHints.forThrottled(headers::get, null, NOW)).isNull();
		assertThat(CoolDownHints.forThrottled(headers::get, AZURE_BODY, NOW)).isEqualTo(Duration.ofSeconds(6));
		assertThat(CoolDownHints.explicit(headers::get, NOW)).isNull();
	}

	@Test
	void unusableMillisFallsThroughToRetryAfter() {
		assertThat(throttled(Map.of("retry-after-ms", "soon", "retry-after", "9"))).isEqualTo(Duration.ofSeconds(9));
		assertThat(throttled(Map.of("retry-after-ms", "99999999999999999999", "retry-after", "9")))
			.isEqualTo(Duration.ofSeconds(9));
	}

	@Test
	void unusableRequestsResetFallsThroughToTokensReset() {
		assertThat(throttled(Map.of("retry-after", "later", "x-ratelimit-reset-requests", "-2s",
				"x-ratelimit-reset-tokens", "6m0s")))
			.isEqualTo(Duration.ofMinutes(6));
	}

	@Test
	void hugeButWellFormedNumbersAreReturnedForTheCallerToCap() {
		assertThat(throttled(Map.of("retry-after", "999999999999"))).isEqualTo(Duration.ofSeconds(999_999_999_999L));
		assertThat(throttled(Map.of("retry-after-ms", "999999999999"))).isEqualTo(Duration.ofMillis(999_999_999_999L));
		assertThat(throttled(Map.of("x-ratelimit-reset-tokens", "999999999999h")))
			.isGreaterThan(Duration.ofDays(365));
		assertThat(CoolDownHints.forThrottled(none(), "Please retry after 999999999 seconds.", NOW))
			.isEqualTo(Duration.ofSeconds(999_999_999));
	}

	@Test
	void overflowingBodyPhraseIsNotUsable() {
		assertThat(CoolDownHints.forThrottled(none(), "Please retry after 99999999999999999999 seconds.", NOW)).isNull();
	}

	@Test
	void garbageHttpDatesAreNotUsable() {
		assertThat(throttled(Map.of("retry-after", "Thu, 32 Jan 2026 12:01:00 GMT"))).isNull();
		assertThat(throttled(Map.of("retry-after", "2026-01-01T12:01:00Z"))).isNull();
	}

	@Test
	void explicitReadsMillisAndRetryAfterOnly() {
		assertThat(CoolDownHints.explicit(Map.of("retry-after-ms", "250")::get, NOW)).isEqualTo(Duration.ofMillis(250));
		assertThat(CoolDownHints.explicit(Map.of("retry-after", "3")::get, NOW)).isEqualTo(Duration.ofSeconds(3));
		assertThat(CoolDownHints.explicit(Map.of("retry-after", httpDate(NOW + 4000))::get, NOW))
			.isEqualTo(Duration.ofSeconds(4));
		assertThat(CoolDownHints.explicit(Map.of("retry-after-ms", "250", "retry-after", "3")::get, NOW))
			.isEqualTo(Duration.ofMillis(250));
	}

	@Test
	void explicitIgnoresRateLimitHeaders() {
		assertThat(CoolDownHints.explicit(
				Map.of("x-ratelimit-reset-requests", "1s", "x-ratelimit-reset-tokens", "6m0s")::get, NOW))
			.isNull();
		assertThat(CoolDownHints.explicit(none(), NOW)).isNull();
	}

	private static Duration throttled(Map<String, String> headers) {
		return CoolDownHints.forThrottled(headers::get, null, NOW);
	}

	private static java.util.function.Function<String, String> none() {
		return (name) -> null;
	}

	private static String httpDate(long millis) {
		return DateTimeFormatter.RFC_1123_DATE_TIME.format(ZonedDateTime.ofInstant(Instant.ofEpochMilli(millis),
				ZoneOffset.UTC));
	}

}
