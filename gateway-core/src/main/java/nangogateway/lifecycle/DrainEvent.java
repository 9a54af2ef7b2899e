package nangogateway.lifecycle;

/** Fired into every client connection when the gateway stops: finish what is in flight, then close. */
public final class DrainEvent {
    public static final DrainEvent INSTANCE = new DrainEvent();

    private DrainEvent() {
    }
}
