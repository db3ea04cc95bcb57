package io.github.openailb.autoconfigure;

import java.time.Duration;
import java.util.stream.Stream;

import io.github.openailb.core.InvalidConfigurationException;
import io.github.openailb.core.LoadBalancer;
import io.github.openailb.testsupport.BootLine;
import io.github.openailb.transport.BalancingClientHttpConnector;
import io.github.openailb.transport.ReactorTransport;
import io.github.openailb.transport.TransportConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import reactor.netty.http.client.HttpClient;

import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.diagnostics.FailureAnalysis;
import org.springframework.boot.test.context.FilteredClassLoader;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.web.client.RestClient;
import org.springframework.web.reactive.function.client.WebClient;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Wiring of the auto-configuration: what it defines, when it backs off, how it fails.
 */
class OpenAiLbAutoConfigurationTests {

	private final ApplicationContextRunner runner = new ApplicationContextRunner()
		.withConfiguration(AutoConfigurations.of(BootLine.REST_CLIENT))
		.withConfiguration(AutoConfigurations.of(BootLine.WEB_CLIENT))
		.withConfiguration(AutoConfigurations.of(OpenAiLbAutoConfiguration.class, OpenAiLbClientsAutoConfiguration.class))
		.withPropertyValues("openai.lb.backends[0].name=a", "openai.lb.backends[0].url=https://a.openai.azure.com");

	@Test
	void definesTheEngineAndQualifiedBalancedClients() {
		this.runner.run((context) -> {
			assertThat(context).hasSingleBean(LoadBalancer.class).hasSingleBean(BalancingClientHttpConnector.class);
			assertThat(context).hasBean("openAiLbRestClient").hasBean("openAiLbWebClient");
			assertThat(context.getBean(LoadBalancer.class).backends()).extracting(io.github.openailb.core.Backend::name).containsExactly("a");
		});
	}

	@Test
	void balancedClientsDoNotCompeteWithTheApplicationsOwnClients() {
		this.runner.withBean("appRestClient", RestClient.class, () -> RestClient.create("http://example.org"))
			.withBean("appWebClient", WebClient.class, () -> WebClient.create("http://example.org"))
			.run((context) -> {
				// by-type injection still finds exactly the application's beans
				assertThat(context.getBeanProvider(RestClient.class).getIfUnique()).isNotNull();
				assertThat(context.getBeanProvider(WebClient.class).getIfUnique()).isNotNull();
				assertThat(context.getBean("openAiLbRestClient")).isNotSameAs(context.getBean("appRestClient"));
			});
	}

	@Test
	void deploymentMapsBindWithModelNamesKeptWhole() {
		this.runner
			.withPropertyValues("openai.lb.backends[0].deployments.gpt-4o=chat-a",
					"openai.lb.backends[0].deployments.gpt-4.1=gpt41-a",
					"openai.lb.backends[0].deployment-tpm.gpt-4.1=30000", "openai.lb.backends[0].deployment-rpm.gpt-4o=60")
			.run((context) -> {
				io.github.openailb.core.BackendConfig backend = context.getBean(LoadBalancer.class).backends().get(0).config();
				assertThat(backend.deployments()).containsExactly(
						new io.github.openailb.core.DeploymentConfig("gpt-4o", "chat-a", 60, 0),
						new io.github.openailb.core.DeploymentConfig("gpt-4.1", "gpt41-a", 0, 30000));
			});
	}

	@Test
	void deploymentAndDeploymentsTogetherFailTheStartNamingBoth() {
		this.runner
			.withPropertyValues("openai.lb.backends[0].deployment=chat-a", "openai.lb.backends[0].deployments.gpt-4o=chat-a")
			.run((context) -> assertThat(context).hasFailed()
				.getFailure()
				.rootCause()
				.hasMessageContaining("openai.lb.backends[0].deployments")
				.hasMessageContaining("openai.lb.backends[0].deployment"));
	}

	@Test
	void backsOffWhenTheUserDefinesTheEngine() {
		LoadBalancer own = LoadBalancer.builder(io.github.openailb.core.BalancerConfig.builder()
			.backend(new io.github.openailb.core.BalancerConfig.BackendBuilder().name("mine").url("http://mine"))
			.build()).build();
		this.runner.withBean(LoadBalancer.class, () -> own)
			.run((context) -> assertThat(context.getBean(LoadBalancer.class)).isSameAs(own));
	}

	@Test
	void transportLimitsHaveDefaultsAndComeFromProperties() {
		this.runner.run((context) -> assertThat(context.getBean(TransportConfig.class))
			.isEqualTo(new TransportConfig(Duration.ofSeconds(5), Duration.ofSeconds(120), Duration.ofMinutes(10), 500,
					1000, 64L * 1024 * 1024)));
		this.runner
			.withPropertyValues("openai.lb.max-duration=90s", "openai.lb.pool.max-connections=7",
					"openai.lb.pool.max-pending-acquires=3", "openai.lb.max-request-body=2MB")
			.run((context) -> assertThat(context.getBean(TransportConfig.class))
				.isEqualTo(new TransportConfig(Duration.ofSeconds(5), Duration.ofSeconds(120), Duration.ofSeconds(90), 7, 3,
						2L * 1024 * 1024)));
	}

	@Test
	void closingTheContextReleasesTheConnectionPool() {
		ReactorTransport[] transport = new ReactorTransport[1];
		this.runner.run((context) -> {
			transport[0] = context.getBean(ReactorTransport.class);
			assertThat(transport[0].isClosed()).isFalse();
		});
		assertThat(transport[0].isClosed()).isTrue();
	}

	@Test
	void switchedOffByProperty() {
		this.runner.withPropertyValues("openai.lb.enabled=false").run((context) -> {
			assertThat(context).doesNotHaveBean(LoadBalancer.class);
			assertThat(context).doesNotHaveBean("openAiLbRestClient");
		});
	}

	@Test
	void absentWithoutReactorNetty() {
		this.runner.withClassLoader(new FilteredClassLoader(HttpClient.class))
			.run((context) -> assertThat(context).doesNotHaveBean(LoadBalancer.class));
	}

	static Stream<Arguments> badConfigurations() {
		return Stream.of(
				Arguments.of(new String[] { "openai.lb.backends[0].url=" }, "openai.lb.backends[0].url"),
				Arguments.of(new String[] { "openai.lb.backends[0].url=ftp://x" }, "openai.lb.backends[0].url"),
				Arguments.of(new String[] { "openai.lb.backends[0].priority=0" }, "openai.lb.backends[0].priority"),
				Arguments.of(new String[] { "openai.lb.backends[0].weight=-2" }, "openai.lb.backends[0].weight"),
				Arguments.of(new String[] { "openai.lb.backends[1].name=a", "openai.lb.backends[1].url=https://b" },
						"openai.lb.backends[1].name"),
				Arguments.of(new String[] { "openai.lb.backends[1].url=https://b" }, "openai.lb.backends[1].name"),
				Arguments.of(new String[] { "openai.lb.max-wait=-1s" }, "openai.lb.max-wait"),
				Arguments.of(new String[] { "openai.lb.default-retry-after=0s" }, "openai.lb.default-retry-after"),
				Arguments.of(new String[] { "openai.lb.max-cool-down=-5m" }, "openai.lb.max-cool-down"));
	}

	@ParameterizedTest
	@MethodSource("badConfigurations")
	void badConfigurationFailsWithTheAnalyzersMessage(String[] properties, String path) {
		this.runner.withPropertyValues(properties).run((context) -> {
			assertThat(context).hasFailed();
			FailureAnalysis analysis = new InvalidConfigurationFailureAnalyzer().analyze(context.getStartupFailure());
			assertThat(analysis).isNotNull();
			assertThat(analysis.getDescription()).contains(path);
			assertThat(analysis.getAction()).contains(path);
		});
	}

	@Test
	void noBackendsFailsNamingTheProperty() {
		new ApplicationContextRunner().withConfiguration(AutoConfigurations.of(OpenAiLbAutoConfiguration.class))
			.run((context) -> {
				assertThat(context).hasFailed();
				assertThat(context.getStartupFailure()).rootCause()
					.isInstanceOf(InvalidConfigurationException.class)
					.hasMessageContaining("openai.lb.backends");
			});
	}

	@Test
	void keysAreNeverEchoedInStartUpErrors() {
		this.runner.withPropertyValues("openai.lb.backends[0].api-key=sk-very-secret-1234567890",
				"openai.lb.backends[0].url=https://user:sk-very-secret-1234567890@a.example.com?key=sk-very-secret-1234567890")
			.run((context) -> {
				assertThat(context).hasFailed();
				FailureAnalysis analysis = new InvalidConfigurationFailureAnalyzer().analyze(context.getStartupFailure());
				assertThat(analysis.getDescription() + analysis.getAction()).doesNotContain("sk-very-secret");
			});
	}

}
