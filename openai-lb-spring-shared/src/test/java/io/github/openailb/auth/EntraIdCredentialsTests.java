package io.github.openailb.auth;

import io.github.openailb.testsupport.MutableClock;
import java.net.URI;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import com.azure.core.credential.AccessToken;
import com.azure.core.credential.TokenCredential;
import com.microsoft.aad.msal4j.MsalServiceException;
import io.github.openailb.core.BackendConfig;
import io.github.openailb.core.KeyStyle;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * Entra ID tokens from a real azure-identity {@code ClientSecretCredential} against a loopback
 * token endpoint. Tokens live 240 s, inside MSAL's own 5-minute refresh window, so MSAL asks the
 * endpoint on every call it gets: whatever is reused is reused by openai-lb's cache.
 */
class EntraIdCredentialsTests {

	private final MutableClock clock = new MutableClock(java.time.Instant.now());

	private FakeEntraId entra;

	@BeforeEach
	void start() throws Exception {
		this.entra = new FakeEntraId();
	}

	@AfterEach
	void stop() {
		this.entra.close();
	}

	@Test
	void firstCallFetchesAndLaterCallsReuseTheToken() throws Exception {
		EntraIdCredentials credentials = credentials(this.entra.clientSecretCredential("client-1"), "b");
		assertThat(header(credentials, "b")).isEqualTo(new AuthHeader("Authorization", "Bearer token-1"));
		assertThat(header(credentials, "b").value()).isEqualTo("Bearer token-1");
		assertThat(header(credentials, "b").value()).isEqualTo("Bearer token-1");
		assertThat(this.entra.requests()).isEqualTo(1);
		assertThat(this.entra.forms().get(0)).contains("client_id=client-1")
			.contains("https%3A%2F%2Fcognitiveservices.azure.com%2F.default");
	}

	@Test
	void tokenIsRefreshedBeforeItExpiresWhileTheOldOneKeepsServing() throws Exception {
		EntraIdCredentials credentials = credentials(this.entra.clientSecretCredential("client-1"), "b");
		assertThat(header(credentials, "b").value()).isEqualTo("Bearer token-1");
		// halfway through the 240 s lifetime: still valid, due for refresh
		this.clock.advance(Duration.ofSeconds(125));
		assertThat(header(credentials, "b").value()).isEqualTo("Bearer token-1");
		await().atMost(Duration.ofSeconds(20))
			.untilAsserted(() -> assertThat(header(credentials, "b").value()).isEqualTo("Bearer token-2"));
		assertThat(this.entra.requests()).isEqualTo(2);
		assertThat(header(credentials, "b").value()).isEqualTo("Bearer token-2");
		assertThat(this.entra.requests()).isEqualTo(2);
	}

	@Test
	void expiredTokenIsNotSentButReplacedFirst() throws Exception {
		EntraIdCredentials credentials = credentials(this.entra.clientSecretCredential("client-1"), "b");
		assertThat(header(credentials, "b").value()).isEqualTo("Bearer token-1");
		this.clock.advance(Duration.ofSeconds(235));
		assertThat(header(credentials, "b").value()).isEqualTo("Bearer token-2");
		assertThat(this.entra.requests()).isEqualTo(2);
	}

	@Test
	void concurrentCallersShareOneFetch() throws Exception {
		EntraIdCredentials credentials = credentials(this.entra.clientSecretCredential("client-1"), "b");
		this.entra.received = new CountDownLatch(1);
		this.entra.release = new CountDownLatch(1);
		Map<Integer, String> got = new ConcurrentHashMap<>();
		CountDownLatch done = new CountDownLatch(10);
		subscribe(credentials, 0, got, done);
		assertThat(this.entra.received.await(20, TimeUnit.SECONDS)).isTrue();
		// the first fetch is now held at the token endpoint: everyone else arrives while it runs
		for (int i = 1; i < 10; i++) {
			subscribe(credentials, i, got, done);
		}
		this.entra.release.countDown();
		assertThat(done.await(20, TimeUnit.SECONDS)).isTrue();
		assertThat(got).hasSize(10).allSatisfy((caller, value) -> assertThat(value).isEqualTo("Bearer token-1"));
		assertThat(this.entra.requests()).isEqualTo(1);
	}

	@Test
	void failureIsReportedWithoutSecretsAndTheCredentialIsLeftAloneForAWhile() throws Exception {
		this.entra.errorStatus = 401;
		EntraIdCredentials credentials = credentials(this.entra.clientSecretCredential("client-1"), "b");
		assertThatThrownBy(() -> header(credentials, "b")).isInstanceOf(BackendCredentialException.class)
			.hasMessage("Entra ID token unavailable: MsalServiceException")
			.hasCauseInstanceOf(MsalServiceException.class);
		// a request arriving just after fails at once instead of waiting on the credential
		assertThatThrownBy(() -> header(credentials, "b")).isInstanceOf(BackendCredentialException.class);
		assertThat(this.entra.requests()).isEqualTo(1);
		this.entra.errorStatus = 0;
		this.clock.advance(TokenCache.RETRY_AFTER_FAILURE.plusSeconds(1));
		assertThat(header(credentials, "b").value()).isEqualTo("Bearer token-1");
		assertThat(this.entra.requests()).isEqualTo(2);
	}

	@Test
	void backendsWithTheSameCredentialShareOneCacheAndCredentialsAreCreatedOnFirstUse() {
		Map<String, AtomicInteger> created = new ConcurrentHashMap<>();
		Map<String, AtomicInteger> fetched = new ConcurrentHashMap<>();
		EntraIdCredentials credentials = EntraIdCredentials.builder()
			.clock(this.clock)
			.defaultCredential(() -> counting("default", created, fetched))
			.managedIdentity((clientId) -> counting(clientId, created, fetched))
			.backend("a", "mi-1")
			.backend("b", "mi-1")
			.backend("c", "mi-2")
			.backend("d")
			.backend("e")
			.build();
		assertThat(created).isEmpty();
		for (String backend : List.of("a", "b", "c", "d", "e", "a", "c", "e")) {
			assertThat(header(credentials, backend).value()).startsWith("Bearer ");
		}
		assertThat(header(credentials, "a")).isEqualTo(header(credentials, "b"));
		assertThat(header(credentials, "a")).isNotEqualTo(header(credentials, "c"));
		assertThat(created).containsOnlyKeys("mi-1", "mi-2", "default")
			.allSatisfy((name, count) -> assertThat(count).hasValue(1));
		assertThat(fetched).allSatisfy((name, count) -> assertThat(count).hasValue(1));
		assertThat(credentials.headerFor(backend("unknown")).blockOptional()).isEmpty();
	}

	@Test
	void headerNeverShowsTheToken() throws Exception {
		EntraIdCredentials credentials = credentials(this.entra.clientSecretCredential("client-1"), "b");
		assertThat(header(credentials, "b").toString()).doesNotContain("token-1");
	}

	private static TokenCredential counting(String name, Map<String, AtomicInteger> created,
			Map<String, AtomicInteger> fetched) {
		created.computeIfAbsent(name, (key) -> new AtomicInteger()).incrementAndGet();
		return (context) -> {
			fetched.computeIfAbsent(name, (key) -> new AtomicInteger()).incrementAndGet();
			return Mono.just(new AccessToken("token-of-" + name, OffsetDateTime.now().plusHours(1)));
		};
	}

	private EntraIdCredentials credentials(TokenCredential credential, String... backends) {
		EntraIdCredentials.Builder builder = EntraIdCredentials.builder()
			.clock(this.clock)
			.defaultCredential(() -> credential);
		for (String backend : backends) {
			builder.backend(backend);
		}
		return builder.build();
	}

	private static void subscribe(EntraIdCredentials credentials, int caller, Map<Integer, String> got,
			CountDownLatch done) {
		credentials.headerFor(backend("b")).subscribe((header) -> {
			got.put(caller, header.value());
			done.countDown();
		}, (ex) -> done.countDown());
	}

	private static AuthHeader header(EntraIdCredentials credentials, String backend) {
		return credentials.headerFor(backend(backend)).block(Duration.ofSeconds(30));
	}

	static BackendConfig backend(String name) {
		return new BackendConfig(name, URI.create("https://" + name + ".openai.azure.com"), 1, 1, null,
				KeyStyle.API_KEY, null, true);
	}

}
