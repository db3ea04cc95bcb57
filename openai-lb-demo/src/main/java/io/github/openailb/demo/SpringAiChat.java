package io.github.openailb.demo;

import com.azure.core.exception.HttpResponseException;
import com.azure.core.http.HttpResponse;
import reactor.core.publisher.Flux;

import org.springframework.ai.chat.client.ChatClient;
import org.springframework.util.StringUtils;

/**
 * Chat through Spring AI's {@link ChatClient} over the balanced {@code AzureOpenAiChatModel}: the
 * Azure SDK's HTTP client is openai-lb's, so every call is balanced and fails over.
 */
class SpringAiChat implements Chat {

	private final ChatClient client;

	SpringAiChat(ChatClient client) {
		this.client = client;
	}

	@Override
	public String call(String message) {
		try {
			return this.client.prompt().user(message).call().content();
		}
		catch (RuntimeException ex) {
			throw translate(ex);
		}
	}

	@Override
	public Flux<String> stream(String message) {
		return this.client.prompt()
			.user(message)
			.stream()
			.content()
			.filter(StringUtils::hasLength)
			.onErrorMap(SpringAiChat::translate);
	}

	/** The SDK reports the balancer's answer as an {@link HttpResponseException}, headers included. */
	static RuntimeException translate(Throwable ex) {
		for (Throwable cause = ex; cause != null; cause = cause.getCause()) {
			if (cause instanceof ChatThrottledException || cause instanceof ChatFailedException) {
				return (RuntimeException) cause;
			}
			if (cause instanceof HttpResponseException http && http.getResponse() != null) {
				HttpResponse response = http.getResponse();
				if (response.getStatusCode() == 429) {
					return new ChatThrottledException(RetryAfter.seconds(response.getHeaderValue("Retry-After")), ex);
				}
				return new ChatFailedException(502, "The backends answered " + response.getStatusCode() + ".", ex);
			}
		}
		return new ChatFailedException(503, "No backend could be reached.", ex);
	}

}
