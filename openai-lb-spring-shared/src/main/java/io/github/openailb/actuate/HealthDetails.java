package io.github.openailb.actuate;

import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;

import io.github.openailb.core.Backend;
import io.github.openailb.core.Headroom;
import io.github.openailb.core.LoadBalancer;

/**
 * What the health indicators of both Boot lines report, built from the engine's state: the
 * balancer's status and each backend's details. Host names only, never a
 * key, a token, a path or a query string.
 */
public final class HealthDetails {

	private HealthDetails() {
	}

	/**
	 * Whether the balancer is up: any backend can take traffic.
	 * @param balancer the balancer
	 * @return {@code true} when up
	 */
	public static boolean isUp(LoadBalancer balancer) {
		return balancer.canTakeTraffic();
	}

	/**
	 * The balancer's details: {@code backends}, each backend's state by name, and
	 * {@code statefulBackend}, the home of requests tied to server-side state, unless those are
	 * balanced.
	 * @param balancer the balancer
	 * @return the details
	 */
	public static Map<String, Object> of(LoadBalancer balancer) {
		Map<String, Object> backends = new LinkedHashMap<>();
		for (Backend backend : balancer.backends()) {
			backends.put(backend.name(), details(backend, balancer.clock().millis()));
		}
		Backend home = balancer.statefulHome();
		return (home != null) ? Map.of("backends", backends, "statefulBackend", home.name())
				: Map.of("backends", backends);
	}

	/** The last quota report, marked stale once its reset has passed. */
	private static Map<String, Object> headroom(Headroom headroom, long now) {
		Map<String, Object> details = new LinkedHashMap<>();
		putKnown(details, "remainingRequests", headroom.remainingRequests());
		putKnown(details, "limitRequests", headroom.limitRequests());
		putKnown(details, "remainingTokens", headroom.remainingTokens());
		putKnown(details, "limitTokens", headroom.limitTokens());
		details.put("seenAt", Instant.ofEpochMilli(headroom.seenAt()).toString());
		details.put("fresh", headroom.isFresh(now));
		return details;
	}

	private static void putKnown(Map<String, Object> details, String name, long value) {
		if (value >= 0) {
			details.put(name, value);
		}
	}

	private static Map<String, Object> details(Backend backend, long now) {
		Map<String, Object> details = new LinkedHashMap<>();
		details.put("host", backend.config().host());
		details.put("priority", backend.config().priority());
		details.put("weight", backend.config().weight());
		details.put("state", backend.state());
		Instant until = backend.coolingDownUntil();
		if (until != null) {
			details.put("coolingDownUntil", until.toString());
		}
		details.put("circuitBreaker", backend.breaker().getState());
		String misconfiguration = backend.misconfiguration();
		if (misconfiguration != null) {
			details.put("misconfiguration", misconfiguration);
		}
		Backend.Counts counts = backend.counts();
		Map<String, Long> attempts = new LinkedHashMap<>();
		attempts.put("total", counts.attempts());
		attempts.put("success", counts.successes());
		attempts.put("throttled", counts.throttled());
		attempts.put("failure", counts.failures());
		attempts.put("misconfigured", counts.misconfigured());
		attempts.put("clientError", counts.clientErrors());
		details.put("attempts", attempts);
		Headroom headroom = backend.headroom();
		if (headroom != null) {
			details.put("headroom", headroom(headroom, now));
		}
		return details;
	}

}
