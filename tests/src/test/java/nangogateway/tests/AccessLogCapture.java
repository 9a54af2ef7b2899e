package nangogateway.tests;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.util.List;
import nangogateway.observe.AccessLogHandler;
import org.slf4j.LoggerFactory;

/** Captures the access log's lines in memory for assertions. */
final class AccessLogCapture implements AutoCloseable {
    private final Logger logger = (Logger) LoggerFactory.getLogger(AccessLogHandler.LOGGER);
    private final ListAppender<ILoggingEvent> appender = new ListAppender<>();
    private final Level before;

    AccessLogCapture() {
        before = logger.getLevel();
        appender.start();
        logger.addAppender(appender);
        logger.setLevel(Level.INFO);
    }

    List<String> lines() {
        return appender.list.stream().map(ILoggingEvent::getFormattedMessage).toList();
    }

    @Override
    public void close() {
        logger.detachAppender(appender);
        logger.setLevel(before);
    }
}
