package io.github.openailb.core;

import java.time.Duration;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.Locale;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads how long a backend asks to be left alone, from the headers and body of its answer.
 * Sources in order, first usable wins: {@code retry-after-ms}, {@code Retry-After} (seconds or
 * HTTP-date), {@code x-ratelimit-reset-requests}, {@code x-ratelimit-reset-tokens} (seconds or
 * OpenAI's {@code 6m0s} form), then Azure's "retry after N seconds" phrase in the error body.
 * A value that does not parse, is not positive, or is a date in the past is not usable: the
 * next source is tried. Nothing here throws on bad input.
 */
public final class CoolDownHints {

	private static final Pattern SECONDS = Pattern.compile("\\d{1,12}(\\.\\d{1,9})?");

	private static final Pattern GO_DURATION = Pattern.compile("((\\d{1,12}(\\.\\d{1,9})?)(ms|h|m|s))+");

	private static final Pattern GO_PART = Pattern.compile("(\\d{1,12}(?:\\.\\d{1,9})?)(ms|h|m|s)");

	private static final Pattern BODY_PHRASE = Pattern.compile("(?i)retry after (\\d{1,9}(?:\\.\\d{1,9})?) seconds?");

	private CoolDownHints() {
	}

	/**
	 * Read the cool-down a throttled (429) answer asks for.
	 * @param headers header lookup by lower-case name, {@code null} when absent
	 * @param body the answer's body, may be {@code null}
	 * @param now the current time in epoch milliseconds, for HTTP-dates
	 * @return the hinted cool-down, or {@code null} when no source is usable
	 */
	public static Duration forThrottled(Function<String, String> headers, String body, long now) {
		Duration hint = explicit(headers, now);
		if (hint == null) {
			hint = goOrSeconds(headers.apply("x-ratelimit-reset-requests"));
		}
		if (hint == null) {
			hint = goOrSeconds(headers.apply("x-ratelimit-reset-tokens"));
		}
		if (hint == null && body != null) {
			Matcher phrase = BODY_PHRASE.matcher(body);
			if (phrase.find()) {
				hint = seconds(phrase.group(1));
			}
		}
		return hint;
	}

	/**
	 * Read an explicit retry hint ({@code retry-after-ms} or {@code Retry-After}), the only ones
	 * that make a failed (5xx) answer cool its backend down.
	 * @param headers header lookup by lower-case name, {@code null} when absent
	 * @param now the current time in epoch milliseconds, for HTTP-dates
	 * @return the hinted cool-down, or {@code null} when none is usable
	 */
	public static Duration explicit(Function<String, String> headers, long now) {
		Duration hint = millis(headers.apply("retry-after-ms"));
		if (hint == null) {
			hint = retryAfter(headers.apply("retry-after"), now);
		}
		return hint;
	}

	static Duration millis(String value) {
		if (value == null || !SECONDS.matcher(value.strip()).matches()) {
			return null;
		}
		return positive(Math.round(Double.parseDouble(value.strip())));
	}

	static Duration retryAfter(String value, long now) {
		if (value == null) {
			return null;
		}
		Duration seconds = seconds(value.strip());
		if (seconds != null || SECONDS.matcher(value.strip()).matches()) {
			return seconds;
		}
		try {
			long at = ZonedDateTime.parse(value.strip(), DateTimeFormatter.RFC_1123_DATE_TIME).toInstant().toEpochMilli();
			return positive(at - now);
		}
		catch (DateTimeParseException ex) {
			return null;
		}
	}

	static Duration goOrSeconds(String value) {
		if (value == null) {
			return null;
		}
		String text = value.strip().toLowerCase(Locale.ROOT);
		Duration seconds = seconds(text);
		if (seconds != null || !GO_DURATION.matcher(text).matches()) {
			return seconds;
		}
		double millis = 0;
		Matcher part = GO_PART.matcher(text);
		while (part.find()) {
			double amount = Double.parseDouble(part.group(1));
			millis += switch (part.group(2)) {
				case "h" -> amount * 3_600_000;
				case "m" -> amount * 60_000;
				case "s" -> amount * 1000;
				default -> amount;
			};
		}
		return positive(Math.round(millis));
	}

	private static Duration seconds(String value) {
		if (!SECONDS.matcher(value).matches()) {
			return null;
		}
		return positive(Math.round(Double.parseDouble(value) * 1000));
	}

	private static Duration positive(long millis) {
		return (millis > 0) ? Duration.ofMillis(millis) : null;
	}

}
