package io.github.openailb.auth;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;

import com.azure.core.credential.AccessToken;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.core.scheduler.Scheduler;

/**
 * The access token of one credential and scope, fetched once and shared by every backend and
 * request that uses it. A token is refreshed ahead of its expiry while the current one keeps
 * serving; concurrent callers that find no usable token wait for one shared fetch. After a
 * failed fetch the credential is left alone for {@link #RETRY_AFTER_FAILURE}: callers without a
 * usable token fail at once (their request fails over) instead of queueing on a credential that
 * just failed.
 * <p>
 * azure-core's {@code SimpleTokenCache} is not used: after a failure it delays the next caller
 * by its retry interval instead of failing it, which would hold a request for up to 30 seconds
 * rather than failing it over, and it reads the system clock.
 */
final class TokenCache {

	/** A token is refreshed when less than this is left (or halfway through a short lifetime). */
	static final Duration REFRESH_BEFORE_EXPIRY = Duration.ofMinutes(5);

	/** A token this close to its expiry is not sent any more: it could expire in flight. */
	static final Duration EXPIRY_MARGIN = Duration.ofSeconds(30);

	/** How long a failed credential is left alone before it is asked again. */
	static final Duration RETRY_AFTER_FAILURE = Duration.ofSeconds(30);

	/** Upper bound on one fetch, so that a hanging token endpoint cannot hold requests forever. */
	static final Duration FETCH_TIMEOUT = Duration.ofSeconds(30);

	private static final Logger logger = LoggerFactory.getLogger(TokenCache.class);

	private final String name;

	private final Supplier<Mono<AccessToken>> source;

	private final Clock clock;

	private final Scheduler scheduler;

	private final AtomicReference<Mono<AccessToken>> inFlight = new AtomicReference<>();

	private volatile Held held;

	private volatile Failure failure;

	/**
	 * Create a cache.
	 * @param name what the credential is, for logs (never a secret)
	 * @param source fetches a new token; may block, it is subscribed on a bounded elastic thread
	 * @param clock decides when a token is due for refresh
	 * @param scheduler where fetches run, off the caller's (possibly event-loop) thread
	 */
	TokenCache(String name, Supplier<Mono<AccessToken>> source, Clock clock, Scheduler scheduler) {
		this.name = name;
		this.source = source;
		this.clock = clock;
		this.scheduler = scheduler;
	}

	/**
	 * Return a usable token, from the cache when it holds one.
	 * @return the token, or an error when none can be had
	 */
	Mono<AccessToken> token() {
		return Mono.defer(() -> {
			Instant now = this.clock.instant();
			Held current = this.held;
			if (current != null && now.isBefore(current.usableUntil)) {
				if (!now.isBefore(current.refreshAt) && !backingOff(now)) {
					// the current token keeps serving while the new one is fetched
					fetch();
				}
				return Mono.just(current.token);
			}
			Failure last = this.failure;
			if (last != null && now.isBefore(last.retryAt)) {
				return Mono.error(last.error);
			}
			return fetch();
		});
	}

	private boolean backingOff(Instant now) {
		Failure last = this.failure;
		return last != null && now.isBefore(last.retryAt);
	}

	/** Join the fetch under way, or start one. */
	private Mono<AccessToken> fetch() {
		while (true) {
			Mono<AccessToken> running = this.inFlight.get();
			if (running != null) {
				return running;
			}
			Held current = this.held;
			if (current != null && this.clock.instant().isBefore(current.refreshAt)) {
				// a fetch finished since the caller looked
				return Mono.just(current.token);
			}
			Sinks.One<AccessToken> result = Sinks.one();
			Mono<AccessToken> shared = result.asMono();
			if (this.inFlight.compareAndSet(null, shared)) {
				start(result);
				return shared;
			}
		}
	}

	private void start(Sinks.One<AccessToken> result) {
		Mono.defer(this.source)
			.subscribeOn(this.scheduler)
			.timeout(FETCH_TIMEOUT)
			.single()
			.subscribe((token) -> {
				Held fresh = hold(token);
				this.held = fresh;
				this.failure = null;
				this.inFlight.set(null);
				logger.debug("openai-lb: Entra ID token acquired for {}; refresh at {}, expires at {}", this.name,
						fresh.refreshAt, fresh.expiresAt);
				result.tryEmitValue(token);
			}, (ex) -> {
				this.failure = new Failure(ex, this.clock.instant().plus(RETRY_AFTER_FAILURE));
				this.inFlight.set(null);
				logger.debug("openai-lb: no Entra ID token for {}: {}", this.name, ex.getClass().getSimpleName());
				result.tryEmitError(ex);
			});
	}

	private Held hold(AccessToken token) {
		Instant now = this.clock.instant();
		Instant expiresAt = token.getExpiresAt().toInstant();
		Instant usableUntil = expiresAt.minus(EXPIRY_MARGIN);
		Instant refreshAt;
		Instant suggested = (token.getRefreshAt() != null) ? token.getRefreshAt().toInstant() : null;
		// azure-identity reports the epoch when the token endpoint suggested no refresh time
		if (suggested != null && suggested.isAfter(now) && suggested.isBefore(expiresAt)) {
			refreshAt = suggested;
		}
		else {
			Instant halfway = now.plus(Duration.between(now, expiresAt).dividedBy(2));
			Instant beforeExpiry = expiresAt.minus(REFRESH_BEFORE_EXPIRY);
			refreshAt = beforeExpiry.isAfter(halfway) ? beforeExpiry : halfway;
		}
		return new Held(token, (refreshAt.isAfter(usableUntil)) ? usableUntil : refreshAt, usableUntil, expiresAt);
	}

	private record Held(AccessToken token, Instant refreshAt, Instant usableUntil, Instant expiresAt) {

		@Override
		public String toString() {
			return "Held[refreshAt=" + this.refreshAt + ", expiresAt=" + this.expiresAt + "]";
		}

	}

	private record Failure(Throwable error, Instant retryAt) {
	}

}
