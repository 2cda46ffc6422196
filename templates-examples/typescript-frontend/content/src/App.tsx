export function App() {
  return <h1>{{ title }}</h1>;
}
