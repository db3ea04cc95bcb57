package io.github.openailb.autoconfigure;

import java.time.OffsetDateTime;
import java.util.List;
import java.util.function.Function;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import com.azure.core.credential.AccessToken;
import com.azure.core.credential.TokenCredential;
import com.azure.identity.CredentialUnavailableException;
import com.github.tomakehurst.wiremock.WireMockServer;
import io.github.openailb.core.Backend;
import io.github.openailb.core.BackendState;
import io.github.openailb.core.LoadBalancer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Mono;

import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.assertj.AssertableApplicationContext;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.web.client.RestClient;
import org.springframework.web.reactive.function.client.WebClient;

import static com.github.tomakehurst.wiremock.client.WireMock.absent;
import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.anyUrl;
import static com.github.tomakehurst.wiremock.client.WireMock.equalTo;
import static com.github.tomakehurst.wiremock.client.WireMock.okJson;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.options;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Key, Entra ID, pass-through and bearer-key backends in one pool, over loopback: each backend
 * receives only its own credential, and the caller's is replaced (or kept, for 'none').
 */
@ExtendWith(OutputCaptureExtension.class)
class MixedCredentialsPoolTests {

	private static final String KEY_A = "key-A-s3cret";

	private static final String KEY_D = "key-D-s3cret";

	private static final String TOKEN = "entra-T0ken-9f8e7d";

	private static final String CALLER_KEY = "caller-K3y-1a2b";

	private static final String CANARY = "canary-from-credential-message";

	private final List<WireMockServer> servers = List.of(server(), server(), server(), server());

	private final Logger logger = (Logger) LoggerFactory.getLogger("io.github.openailb");

	private Level level;

	@BeforeEach
	void start() {
		this.servers.forEach(WireMockServer::start);
		this.level = this.logger.getLevel();
		this.logger.setLevel(Level.DEBUG);
	}

	@AfterEach
	void stop() {
		this.servers.forEach(WireMockServer::stop);
		this.logger.setLevel(this.level);
	}

	@Test
	void webClientSendsEachBackendItsOwnCredential(CapturedOutput output) {
		eachBackendGetsItsOwnCredential((context) -> context.getBean("openAiLbWebClient", WebClient.class)
			.post()
			.uri("/openai/deployments/gpt/chat/completions?api-version=2024-10-21")
			.header("api-key", CALLER_KEY)
			.bodyValue("{}")
			.retrieve()
			.bodyToMono(String.class)
			.block(), output);
	}

	@Test
	void restClientSendsEachBackendItsOwnCredential(CapturedOutput output) {
		eachBackendGetsItsOwnCredential((context) -> context.getBean("openAiLbRestClient", RestClient.class)
			.post()
			.uri("/openai/deployments/gpt/chat/completions?api-version=2024-10-21")
			.header("api-key", CALLER_KEY)
			.body("{}")
			.retrieve()
			.body(String.class), output);
	}

	private void eachBackendGetsItsOwnCredential(Function<AssertableApplicationContext, String> call,
			CapturedOutput output) {
		// a throttles, b and c fail: one request visits every backend in priority order
		a().stubFor(post(anyUrl()).willReturn(aResponse().withStatus(429).withHeader("Retry-After", "7")));
		b().stubFor(post(anyUrl()).willReturn(aResponse().withStatus(500)));
		c().stubFor(post(anyUrl()).willReturn(aResponse().withStatus(503)));
		d().stubFor(post(anyUrl()).willReturn(okJson("{\"from\":\"d\"}")));
		runner().withBean(TokenCredential.class, () -> (request) -> Mono
			.just(new AccessToken(TOKEN, OffsetDateTime.now().plusHours(1)))).run((context) -> {
				assertThat(call.apply(context)).isEqualTo("{\"from\":\"d\"}");
				a().verify(1, postRequestedFor(anyUrl()).withHeader("api-key", equalTo(KEY_A))
					.withHeader("Authorization", absent()));
				b().verify(1, postRequestedFor(anyUrl()).withHeader("Authorization", equalTo("Bearer " + TOKEN))
					.withHeader("api-key", absent()));
				c().verify(1, postRequestedFor(anyUrl()).withHeader("api-key", equalTo(CALLER_KEY))
					.withHeader("Authorization", absent()));
				d().verify(1, postRequestedFor(anyUrl()).withHeader("Authorization", equalTo("Bearer " + KEY_D))
					.withHeader("api-key", absent()));
			});
		assertThat(output).doesNotContain(KEY_A, KEY_D, TOKEN, CALLER_KEY);
	}

	@Test
	void tokenFailureFailsOverAndMarksTheBackendMisconfiguredWithoutSecrets(CapturedOutput output) {
		b().stubFor(post(anyUrl()).willReturn(okJson("{\"from\":\"b\"}")));
		d().stubFor(post(anyUrl()).willReturn(okJson("{\"from\":\"d\"}")));
		runner().withPropertyValues("openai.lb.backends[0].enabled=false", "openai.lb.backends[1].priority=1",
				"openai.lb.backends[2].enabled=false")
			.withBean(TokenCredential.class, () -> (request) -> Mono
				.error(new CredentialUnavailableException("no credential found " + CANARY)))
			.run((context) -> {
				String body = context.getBean("openAiLbWebClient", WebClient.class)
					.post()
					.uri("/openai/deployments/gpt/chat/completions")
					.header("api-key", CALLER_KEY)
					.bodyValue("{}")
					.retrieve()
					.bodyToMono(String.class)
					.block();
				assertThat(body).isEqualTo("{\"from\":\"d\"}");
				assertThat(b().getAllServeEvents()).isEmpty();
				d().verify(1, postRequestedFor(anyUrl()).withHeader("Authorization", equalTo("Bearer " + KEY_D)));
				Backend b = context.getBean(LoadBalancer.class).backend("b");
				assertThat(b.state()).isEqualTo(BackendState.MISCONFIGURED);
				assertThat(b.misconfiguration()).isEqualTo("Entra ID token unavailable: CredentialUnavailableException");
			});
		assertThat(output).contains("Entra ID token unavailable: CredentialUnavailableException")
			.doesNotContain(CANARY, KEY_A, KEY_D, CALLER_KEY);
	}

	private ApplicationContextRunner runner() {
		return new ApplicationContextRunner()
			.withConfiguration(AutoConfigurations.of(OpenAiLbAutoConfiguration.class,
					OpenAiLbClientsAutoConfiguration.class))
			.withPropertyValues("openai.lb.backends[0].name=a", "openai.lb.backends[0].url=" + a().baseUrl(),
					"openai.lb.backends[0].priority=1", "openai.lb.backends[0].api-key=" + KEY_A,
					"openai.lb.backends[1].name=b", "openai.lb.backends[1].url=" + b().baseUrl(),
					"openai.lb.backends[1].priority=2", "openai.lb.backends[1].auth=entra",
					"openai.lb.backends[2].name=c", "openai.lb.backends[2].url=" + c().baseUrl(),
					"openai.lb.backends[2].priority=3", "openai.lb.backends[2].auth=none",
					"openai.lb.backends[3].name=d", "openai.lb.backends[3].url=" + d().baseUrl(),
					"openai.lb.backends[3].priority=4", "openai.lb.backends[3].api-key=" + KEY_D,
					"openai.lb.backends[3].key-style=bearer");
	}

	private WireMockServer a() {
		return this.servers.get(0);
	}

	private WireMockServer b() {
		return this.servers.get(1);
	}

	private WireMockServer c() {
		return this.servers.get(2);
	}

	private WireMockServer d() {
		return this.servers.get(3);
	}

	private static WireMockServer server() {
		return new WireMockServer(options().dynamicPort());
	}

}
