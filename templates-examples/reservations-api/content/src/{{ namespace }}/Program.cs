namespace {{ namespace }};

public static class Program
{
    public static void Main(string[] args)
    {
        var builder = WebApplication.CreateBuilder(args);
{%- if enable_swagger %}
        builder.Services.AddEndpointsApiExplorer();
        builder.Services.AddSwaggerGen();
{%- endif %}
{%- if database != 'none' %}
        builder.Services.AddReservationsPersistence(builder.Configuration);
{%- endif %}
        var app = builder.Build();
{%- if enable_swagger %}
        app.UseSwagger();
        app.UseSwaggerUI();
{%- endif %}
        app.MapGet("/reservations", () => Results.Ok());
        app.Run();
    }
}
