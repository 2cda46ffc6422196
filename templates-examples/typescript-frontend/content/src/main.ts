{%- if framework == 'react' %}
import { createRoot } from "react-dom/client";
import { App } from "./App";

createRoot(document.getElementById("app")!).render(App());
{%- else %}
const root = document.getElementById("app");
if (root) {
  root.textContent = "{{ title }}";
}
{%- endif %}
