package io.github.openailb.actuate;

import java.util.ArrayList;
import java.util.List;

import com.github.tomakehurst.wiremock.WireMockServer;
import io.github.openailb.autoconfigure.OpenAiLbActuatorAutoConfiguration;
import io.github.openailb.autoconfigure.OpenAiLbAutoConfiguration;
import io.github.openailb.autoconfigure.OpenAiLbClientsAutoConfiguration;
import io.github.openailb.testsupport.BootLine;

import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.boot.test.context.runner.ReactiveWebApplicationContextRunner;
import org.springframework.context.ApplicationContext;
import org.springframework.web.reactive.function.client.WebClient;

import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.options;

/**
 * WireMock backends on loopback and an application context wired as a user's would be.
 */
final class LoopbackBackends implements AutoCloseable {

	/** Key given to every backend; it must never show up anywhere but in the request to it. */
	static final String SECRET = "sk-test-SECRET-123";

	private final List<WireMockServer> servers = new ArrayList<>();

	WireMockServer start() {
		WireMockServer server = new WireMockServer(options().dynamicPort());
		server.start();
		this.servers.add(server);
		return server;
	}

	@Override
	public void close() {
		this.servers.forEach(WireMockServer::stop);
	}

	/** The auto-configurations an actuator application with Resilience4j would run. */
	static ApplicationContextRunner contextRunner() {
		return new ApplicationContextRunner()
			.withConfiguration(AutoConfigurations.of(BootLine.ACTUATOR))
		.withConfiguration(AutoConfigurations.of(OpenAiLbAutoConfiguration.class, OpenAiLbClientsAutoConfiguration.class, OpenAiLbActuatorAutoConfiguration.class))
			.withPropertyValues("management.endpoint.health.show-details=always");
	}

	/** The same application as a reactive web application, so the health endpoint's web extension exists. */
	static ReactiveWebApplicationContextRunner webContextRunner() {
		return new ReactiveWebApplicationContextRunner()
			.withConfiguration(AutoConfigurations.of(BootLine.ACTUATOR))
			.withConfiguration(AutoConfigurations.of(BootLine.WEB_ENDPOINTS))
			.withConfiguration(AutoConfigurations.of(OpenAiLbAutoConfiguration.class,
					OpenAiLbClientsAutoConfiguration.class, OpenAiLbActuatorAutoConfiguration.class))
			.withPropertyValues("management.endpoint.health.show-details=always");
	}

	/** Properties of one backend, with the secret key. */
	static String[] backend(int index, String name, WireMockServer server, int priority) {
		return backend(index, name, server.baseUrl(), priority);
	}

	/** Properties of one backend at the given base URL, with the secret key. */
	static String[] backend(int index, String name, String baseUrl, int priority) {
		String prefix = "openai.lb.backends[" + index + "].";
		return new String[] { prefix + "name=" + name, prefix + "url=" + baseUrl + "/prefix",
				prefix + "priority=" + priority, prefix + "api-key=" + SECRET };
	}

	static WebClient client(ApplicationContext context) {
		return context.getBean("openAiLbWebClient", WebClient.class);
	}

	/** Send one chat call through the balanced client and return the status the caller got. */
	static int call(ApplicationContext context) {
		return call(context, "gpt");
	}

	/** Send one call for a model (Azure's deployment path) and return the status the caller got. */
	static int call(ApplicationContext context, String model) {
		return call(context, "/openai/deployments/" + model + "/chat/completions?api-version=2024-10-21",
				"{\"messages\":[]}");
	}

	/** Send one call with this path and body and return the status the caller got. */
	static int call(ApplicationContext context, String uri, String body) {
		return client(context).post()
			.uri(uri)
			.bodyValue(body)
			.exchangeToMono((response) -> response.releaseBody().thenReturn(response.statusCode().value()))
			.block(java.time.Duration.ofSeconds(10));
	}

}
