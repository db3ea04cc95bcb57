package io.github.openailb.reliability;

import io.github.openailb.autoconfigure.OpenAiLbAutoConfiguration;
import io.github.openailb.autoconfigure.OpenAiLbClientsAutoConfiguration;
import io.github.openailb.testsupport.BootLine;
import reactor.core.publisher.Mono;

import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.ApplicationContext;
import org.springframework.web.client.RestClient;
import org.springframework.web.reactive.function.client.WebClient;

/**
 * An application wired as a user's would be, with the balanced {@code RestClient} and
 * {@code WebClient}, for the reliability tests.
 */
final class BalancedApp {

	static final String CHAT = "/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21";

	private BalancedApp() {
	}

	/** The auto-configurations of an application with both clients, and short timeouts. */
	static ApplicationContextRunner runner() {
		return new ApplicationContextRunner()
			.withConfiguration(AutoConfigurations.of(BootLine.REST_CLIENT))
		.withConfiguration(AutoConfigurations.of(BootLine.WEB_CLIENT))
		.withConfiguration(AutoConfigurations.of(OpenAiLbAutoConfiguration.class, OpenAiLbClientsAutoConfiguration.class))
			.withPropertyValues("openai.lb.response-timeout=5s", "openai.lb.connect-timeout=1s");
	}

	/** Properties of one backend without a key. */
	static String[] backend(int index, String name, String url, int priority) {
		String prefix = "openai.lb.backends[" + index + "].";
		return new String[] { prefix + "name=" + name, prefix + "url=" + url, prefix + "priority=" + priority };
	}

	static RestClient restClient(ApplicationContext context) {
		return context.getBean("openAiLbRestClient", RestClient.class);
	}

	static WebClient webClient(ApplicationContext context) {
		return context.getBean("openAiLbWebClient", WebClient.class);
	}

	/**
	 * Send a chat call carrying the caller's id in {@code x-caller}, to a backend that answers
	 * {@code {"caller":"<id>"}}.
	 * @return empty when the caller got exactly its own answer, else what it got
	 */
	static Mono<String> ownAnswer(WebClient client, String id) {
		String expected = "{\"caller\":\"" + id + "\"}";
		return client.post()
			.uri(CHAT)
			.header("x-caller", id)
			.bodyValue("{}")
			.exchangeToMono((response) -> response.bodyToMono(String.class)
				.defaultIfEmpty("")
				.map((body) -> (response.statusCode().value() == 200 && body.equals(expected)) ? ""
						: id + " got " + response.statusCode().value() + " " + body))
			.onErrorResume((ex) -> Mono.just(id + " failed: " + ex));
	}

}
