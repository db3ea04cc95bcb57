package io.github.openailb.auth;

import io.github.openailb.testsupport.MutableClock;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.concurrent.atomic.AtomicInteger;

import com.azure.core.credential.AccessToken;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * When the cache asks its credential again, decided by a hand-moved clock. Fetches run on the
 * caller's thread here, so every fetch has happened when a call returns.
 */
class TokenCacheTests {

	private final MutableClock clock = new MutableClock(java.time.Instant.now());

	private final AtomicInteger fetches = new AtomicInteger();

	private final Deque<AccessToken> tokens = new ArrayDeque<>();

	private final TokenCache cache = new TokenCache("test", () -> {
		this.fetches.incrementAndGet();
		return Mono.justOrEmpty(this.tokens.poll());
	}, this.clock, Schedulers.immediate());

	@Test
	void epochRefreshTimeAsReportedByAzureIdentityIsIgnored() {
		// azure-identity 1.18 reports refreshAt = 1970-01-01 when the endpoint suggests none
		this.tokens.add(token("t1", Duration.ofHours(1), OffsetDateTime.of(1970, 1, 1, 0, 0, 0, 0, ZoneOffset.UTC)));
		assertThat(value()).isEqualTo("t1");
		assertThat(value()).isEqualTo("t1");
		assertThat(value()).isEqualTo("t1");
		assertThat(this.fetches).hasValue(1);
	}

	@Test
	void longLivedTokenIsRefreshedFiveMinutesBeforeExpiry() {
		this.tokens.add(token("t1", Duration.ofHours(1), null));
		this.tokens.add(token("t2", Duration.ofHours(2), null));
		assertThat(value()).isEqualTo("t1");
		this.clock.advance(Duration.ofMinutes(54));
		assertThat(value()).isEqualTo("t1");
		assertThat(this.fetches).hasValue(1);
		this.clock.advance(Duration.ofMinutes(2));
		// the still valid token serves the call that starts the refresh
		assertThat(value()).isEqualTo("t1");
		assertThat(this.fetches).hasValue(2);
		assertThat(value()).isEqualTo("t2");
		assertThat(this.fetches).hasValue(2);
	}

	@Test
	void refreshTimeSuggestedByTheEndpointIsHonoured() {
		OffsetDateTime now = OffsetDateTime.ofInstant(this.clock.instant(), ZoneOffset.UTC);
		this.tokens.add(token("t1", Duration.ofHours(24), now.plusHours(12)));
		this.tokens.add(token("t2", Duration.ofHours(24), null));
		assertThat(value()).isEqualTo("t1");
		this.clock.advance(Duration.ofHours(11));
		assertThat(value()).isEqualTo("t1");
		assertThat(this.fetches).hasValue(1);
		this.clock.advance(Duration.ofHours(2));
		value();
		assertThat(value()).isEqualTo("t2");
		assertThat(this.fetches).hasValue(2);
	}

	@Test
	void failedRefreshKeepsServingTheValidTokenAndRetriesLater() {
		this.tokens.add(token("t1", Duration.ofHours(1), null));
		assertThat(value()).isEqualTo("t1");
		this.clock.advance(Duration.ofMinutes(56));
		// no token queued: this refresh completes empty, which is a failure
		assertThat(value()).isEqualTo("t1");
		assertThat(value()).isEqualTo("t1");
		assertThat(this.fetches).hasValue(2);
		this.tokens.add(token("t2", Duration.ofHours(1), null));
		this.clock.advance(TokenCache.RETRY_AFTER_FAILURE);
		value();
		assertThat(value()).isEqualTo("t2");
		assertThat(this.fetches).hasValue(3);
	}

	private String value() {
		return this.cache.token().block(Duration.ofSeconds(5)).getToken();
	}

	private AccessToken token(String value, Duration lifetime, OffsetDateTime refreshAt) {
		OffsetDateTime expiresAt = OffsetDateTime.ofInstant(this.clock.instant(), ZoneOffset.UTC).plus(lifetime);
		return new AccessToken(value, expiresAt, refreshAt);
	}

}
