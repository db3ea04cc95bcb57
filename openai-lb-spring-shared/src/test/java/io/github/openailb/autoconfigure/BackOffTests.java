package io.github.openailb.autoconfigure;

import java.time.Duration;

import com.github.tomakehurst.wiremock.WireMockServer;
import io.github.openailb.actuate.OpenAiLbMetrics;
import io.github.openailb.auth.AuthHeader;
import io.github.openailb.auth.BackendCredentials;
import io.github.openailb.auth.PerBackendCredentials;
import io.github.openailb.core.BalancerConfig;
import io.github.openailb.core.LoadBalancer;
import io.github.openailb.testsupport.BootLine;
import io.github.openailb.testsupport.LoopbackBackends;
import io.github.openailb.transport.BalancingClientHttpConnector;
import io.github.openailb.transport.TransportConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import reactor.core.publisher.Mono;

import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.assertj.AssertableApplicationContext;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.http.client.reactive.ReactorClientHttpConnector;
import org.springframework.web.client.RestClient;
import org.springframework.web.reactive.function.client.WebClient;

import static com.github.tomakehurst.wiremock.client.WireMock.anyUrl;
import static com.github.tomakehurst.wiremock.client.WireMock.equalTo;
import static com.github.tomakehurst.wiremock.client.WireMock.okJson;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The README's promise "define your own {@code LoadBalancer}, {@code BackendCredentials} or
 * {@code BalancingClientHttpConnector} bean and the starter backs off": each such bean starts
 * without {@code openai.lb.backends} where it carries its own backends, and is the one the
 * balanced clients then use, over real loopback calls.
 */
class BackOffTests {

	private static final String CHAT = "/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21";

	@RegisterExtension
	final LoopbackBackends backends = new LoopbackBackends();

	private final ApplicationContextRunner runner = new ApplicationContextRunner()
		.withConfiguration(AutoConfigurations.of(BootLine.REST_CLIENT))
		.withConfiguration(AutoConfigurations.of(BootLine.WEB_CLIENT))
		.withConfiguration(AutoConfigurations.of(BootLine.ACTUATOR))
		.withConfiguration(AutoConfigurations.of(OpenAiLbAutoConfiguration.class,
				OpenAiLbClientsAutoConfiguration.class, OpenAiLbActuatorAutoConfiguration.class))
		.withPropertyValues("openai.lb.response-timeout=20s", "openai.lb.connect-timeout=5s");

	@Test
	void ownEngineWithoutBackendPropertiesStartsAndIsUsedWithItsKeys() {
		WireMockServer mine = ok(this.backends.start(), "mine");
		LoadBalancer own = LoadBalancer.builder(BalancerConfig.builder()
			.backend(new BalancerConfig.BackendBuilder().name("mine").url(mine.baseUrl()).apiKey("sk-mine"))
			.build()).build();
		this.runner.withBean(LoadBalancer.class, () -> own).run((context) -> {
			assertThat(context).hasNotFailed().doesNotHaveBean(BalancerConfig.class);
			assertThat(context.getBean(LoadBalancer.class)).isSameAs(own);
			assertThat(context).hasSingleBean(OpenAiLbMetrics.class);
			assertThat(BootLine.health(context, "openAiLbHealthIndicator").status()).isEqualTo("UP");
			assertBalancedCallsReach(context, "mine");
			// the credentials come from the engine's backends, not from properties
			mine.verify(postRequestedFor(urlEqualTo(CHAT)).withHeader("api-key", equalTo("sk-mine")));
		});
	}

	@Test
	void ownCredentialsAreSentToTheBackends() {
		WireMockServer a = ok(this.backends.start(), "a");
		BackendCredentials own = (backend) -> Mono.just(new AuthHeader("api-key", "own-" + backend.name()));
		this.runner.withBean(BackendCredentials.class, () -> own)
			.withPropertyValues("openai.lb.backends[0].name=a", "openai.lb.backends[0].url=" + a.baseUrl(),
					"openai.lb.backends[0].api-key=sk-from-properties")
			.run((context) -> {
				assertThat(context).hasNotFailed();
				assertThat(context.getBean(BackendCredentials.class)).isSameAs(own);
				assertBalancedCallsReach(context, "a");
				a.verify(2, postRequestedFor(urlEqualTo(CHAT)).withHeader("api-key", equalTo("own-a")));
			});
	}

	@Test
	void ownConnectorWithoutTheQualifierIsWhatTheBalancedClientsUse() {
		WireMockServer configured = ok(this.backends.start(), "configured");
		WireMockServer theirs = ok(this.backends.start(), "theirs");
		LoadBalancer balancer = LoadBalancer.builder(BalancerConfig.builder()
			.backend(new BalancerConfig.BackendBuilder().name("theirs").url(theirs.baseUrl()))
			.build()).build();
		ReactorClientHttpConnector transport = new ReactorClientHttpConnector();
		BalancingClientHttpConnector own = new BalancingClientHttpConnector(balancer, transport,
				new PerBackendCredentials(java.util.Map.of()),
				TransportConfig.builder().responseTimeout(Duration.ofSeconds(5)).build(), transport);
		this.runner.withBean(BalancingClientHttpConnector.class, () -> own)
			.withPropertyValues("openai.lb.backends[0].name=configured",
					"openai.lb.backends[0].url=" + configured.baseUrl())
			.run((context) -> {
				assertThat(context).hasNotFailed();
				assertThat(context.getBean(BalancingClientHttpConnector.class)).isSameAs(own);
				assertBalancedCallsReach(context, "theirs");
				String fromBuilder = context.getBean(WebClient.Builder.class)
					.baseUrl(BalancingClientHttpConnector.BASE_URL)
					.build()
					.post()
					.uri(CHAT)
					.bodyValue("{}")
					.retrieve()
					.bodyToMono(String.class)
					.block(Duration.ofSeconds(10));
				assertThat(fromBuilder).contains("theirs");
				assertThat(configured.getAllServeEvents()).isEmpty();
			});
	}

	/** One call through each balanced bean, both answered by the named backend. */
	private static void assertBalancedCallsReach(AssertableApplicationContext context, String backend) {
		String viaRestClient = context.getBean("openAiLbRestClient", RestClient.class)
			.post()
			.uri(CHAT)
			.body("{}")
			.retrieve()
			.body(String.class);
		String viaWebClient = context.getBean("openAiLbWebClient", WebClient.class)
			.post()
			.uri(CHAT)
			.bodyValue("{}")
			.retrieve()
			.bodyToMono(String.class)
			.block(Duration.ofSeconds(10));
		assertThat(viaRestClient).contains(backend);
		assertThat(viaWebClient).contains(backend);
	}

	private static WireMockServer ok(WireMockServer server, String name) {
		server.stubFor(post(anyUrl()).willReturn(okJson("{\"from\":\"" + name + "\"}")));
		return server;
	}

}
