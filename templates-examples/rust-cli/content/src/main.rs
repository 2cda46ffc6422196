//! {{ description }}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
{%- if with_verbose %}
    if args.iter().any(|a| a == "--verbose") {
        eprintln!("{{ crate_name }}: {} argument(s)", args.len());
    }
{%- endif %}
    let name = args
        .iter()
        .find(|a| !a.starts_with("--"))
        .map(String::as_str)
        .unwrap_or("world");
    println!("Hello, {name}!");
}
