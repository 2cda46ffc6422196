namespace {{ namespace }}.Persistence;

/// Stores reservations in {{ database }} with at most {{ connection_pool }} pooled connections.
public sealed class ReservationsStore
{
    public const int MaxPoolSize = {{ connection_pool }};
}
